// Email and password: signUp, signInWithPassword, getUser, updateUser (data, password),
// refreshSession, signOut.
export default async function ({ client, email, password }) {
  const sb = client();
  const address = email();
  const newPassword = `${password} again`;
  const signedUp = await sb.auth.signUp({ email: address, password });
  const userId = signedUp.data.user?.id;
  await sb.auth.signOut();
  const wrong = await sb.auth.signInWithPassword({ email: address, password: 'not it at all' });
  const signedIn = await sb.auth.signInWithPassword({ email: address, password });
  const got = await sb.auth.getUser();
  const updated = await sb.auth.updateUser({ data: { display_name: 'Ada' } });
  await sb.auth.updateUser({ password: newPassword });
  const oldPassword = await sb.auth.signInWithPassword({ email: address, password });
  const newSignIn = await sb.auth.signInWithPassword({ email: address, password: newPassword });
  const first = newSignIn.data.session;
  const refreshed = await sb.auth.refreshSession();
  const second = refreshed.data.session;
  const withRefreshed = await sb.auth.getUser(second.access_token);
  await sb.auth.signOut();
  const reused = await sb.auth.refreshSession({ refresh_token: second.refresh_token });
  const afterSignOut = await sb.auth.getUser(second.access_token);
  return {
    sign_up_opens_a_session: signedUp.error === null && signedUp.data.session !== null,
    wrong_password_error: wrong.error?.code ?? null,
    sign_in_is_the_signed_up_user: signedIn.data.user?.id === userId,
    get_user_email_matches: got.data.user?.email === address,
    updated_user_metadata: updated.data.user?.user_metadata ?? null,
    old_password_after_update_error: oldPassword.error?.code ?? null,
    new_password_signs_in: newSignIn.error === null && newSignIn.data.user?.id === userId,
    refresh_rotates_the_refresh_token: second.refresh_token !== first.refresh_token,
    refreshed_access_token_is_accepted: withRefreshed.data.user?.id === userId,
    refreshed_user_is_the_same: refreshed.data.user?.id === userId,
    refresh_after_sign_out_error: reused.error?.code ?? null,
    get_user_after_sign_out_refused: afterSignOut.data.user === null && afterSignOut.error !== null,
  };
}
