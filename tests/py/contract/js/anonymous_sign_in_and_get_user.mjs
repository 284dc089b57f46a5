// signInAnonymously, then getUser with the session it opened.
export default async function ({ client }) {
  const sb = client();
  const { data } = await sb.auth.signInAnonymously();
  const got = await sb.auth.getUser();
  await sb.auth.signOut();
  return {
    is_anonymous: data.user.is_anonymous,
    role: data.user.role,
    aud: data.user.aud,
    token_type: data.session.token_type,
    expires_in: data.session.expires_in,
    get_user_is_the_same_user: got.data.user?.id === data.user.id,
    get_user_is_anonymous: got.data.user?.is_anonymous ?? null,
  };
}
