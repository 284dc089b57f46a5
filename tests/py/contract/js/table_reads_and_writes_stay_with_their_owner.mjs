// Table endpoints under RLS: the owner inserts, reads, updates and counts its own rows; another
// user sees none of them and cannot change, forge or delete them; anon reads nothing.
const titles = (reply) => (reply.error ? reply.error.code : reply.data.map((row) => row.title));
const refusal = (reply) => reply.error?.code ?? null;

export default async function ({ client, uuid }) {
  const owner = client();
  const other = client();
  const anon = client();
  const { data: mine } = await owner.auth.signInAnonymously();
  await other.auth.signInAnonymously();
  const projectId = uuid();
  const projects = (sb) => sb.from('project_overview');
  const inserted = await projects(owner)
    .insert({ project_id: projectId, user_id: mine.user.id, title: 'Mine' })
    .select('title');
  const read = await projects(owner).select('title').eq('project_id', projectId);
  const renamed = await projects(owner)
    .update({ title: 'Mine, renamed' })
    .eq('project_id', projectId)
    .select('title');
  const single = await projects(owner).select('title').eq('project_id', projectId).single();
  const counted = await projects(owner).select('*', { count: 'exact', head: true });
  const seenByOther = await projects(other).select('title');
  const otherUpdate = await projects(other)
    .update({ title: 'Taken' })
    .eq('project_id', projectId)
    .select('title');
  const forged = await projects(other).insert({
    project_id: uuid(),
    user_id: mine.user.id,
    title: 'Forged',
  });
  const deleted = await projects(other).delete().eq('project_id', projectId);
  const seenByAnon = await projects(anon).select('title');
  const after = await projects(owner).select('title');
  await owner.auth.signOut();
  await other.auth.signOut();
  return {
    insert_returns: titles(inserted),
    owner_reads: titles(read),
    update_returns: titles(renamed),
    single_row: single.error ? single.error.code : single.data,
    owner_count: counted.count,
    other_user_reads: titles(seenByOther),
    other_user_update_returns: titles(otherUpdate),
    other_user_forged_insert: refusal(forged),
    other_user_delete: refusal(deleted),
    anon_read: refusal(seenByAnon),
    owner_rows_after: titles(after),
  };
}
