// Two users over rpc: one user's rows are invisible to the other and cannot be overwritten.
const titles = (reply) => (reply.error ? reply.error : reply.data.map((row) => row.title));

export default async function ({ client, uuid }) {
  const owner = client();
  const other = client();
  await owner.auth.signInAnonymously();
  await other.auth.signInAnonymously();
  const projectId = uuid();
  await owner.rpc('upsert_project_overview', { p_project_id: projectId, p_title: 'Mine' });
  const seenByOwner = await owner.rpc('list_project_overviews').select('title');
  const seenByOther = await other.rpc('list_project_overviews').select('title');
  const overwrite = await other.rpc('upsert_project_overview', {
    p_project_id: projectId,
    p_title: 'Taken',
  });
  const after = await owner.rpc('list_project_overviews').select('title');
  await owner.auth.signOut();
  await other.auth.signOut();
  return {
    owner_sees_own_project: titles(seenByOwner),
    other_user_sees_nothing: titles(seenByOther),
    other_user_overwrite_error: overwrite.error?.hint ?? null,
    owner_row_unchanged: titles(after),
  };
}
