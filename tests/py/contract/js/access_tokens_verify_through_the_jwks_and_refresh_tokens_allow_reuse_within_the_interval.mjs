// getClaims verifies the ES256 access token against the stack's JWKS and refuses a forged
// one; a refresh token reused within GoTrue's reuse interval still refreshes.
const forge = (token) => {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...claims, role: 'service_role' })).toString('base64url');
  return [header, forged, signature].join('.');
};

export default async function ({ client }) {
  const sb = client();
  const { data } = await sb.auth.signInAnonymously();
  const verified = await sb.auth.getClaims();
  const forged = await sb.auth.getClaims(forge(data.session.access_token));
  const first = await sb.auth.refreshSession();
  const reused = await sb.auth.refreshSession({ refresh_token: data.session.refresh_token });
  await sb.auth.signOut();
  return {
    alg: verified.data?.header.alg ?? verified.error?.message,
    has_kid: typeof verified.data?.header.kid === 'string',
    claims_are_the_user: verified.data?.claims.sub === data.user.id,
    claims_role: verified.data?.claims.role ?? null,
    forged_token_refused: forged.error !== null,
    refresh_succeeds: first.error === null,
    reuse_within_interval_is_the_same_user: reused.data?.user?.id === data.user.id,
  };
}
