// Calls the stack does not serve (storage uploads and signed URLs, MFA, email OTP, a function
// that is not ours) fail with a 404 the client reports as its own error, never a crash.
export default async function ({ client }) {
  const sb = client();
  await sb.auth.signInAnonymously();
  const upload = await sb.storage
    .from('renders')
    .upload('note.txt', new Blob(['hello']), { contentType: 'text/plain' });
  const signed = await sb.storage.from('renders').createSignedUrl('note.txt', 60);
  const mfa = await sb.auth.mfa.enroll({ factorType: 'totp' });
  const otp = await sb.auth.signInWithOtp({ email: 'someone@example.com' });
  const unknownFunction = await sb.functions.invoke('hello');
  await sb.auth.signOut();
  return {
    storage_upload: [upload.error?.name ?? null, upload.error?.status ?? null],
    storage_signed_url: [signed.error?.name ?? null, signed.error?.status ?? null],
    mfa_enroll: [mfa.error?.status ?? null, mfa.error?.code ?? null],
    email_otp: [otp.error?.status ?? null, otp.error?.code ?? null],
    unknown_function_status: unknownFunction.error?.context?.status ?? null,
  };
}
