// rpc on a set-returning function with select=, filters, order, limit, range, count and single.
const titles = (reply) => (reply.error ? reply.error : reply.data.map((row) => row.title));

export default async function ({ client, uuid }) {
  const sb = client();
  await sb.auth.signInAnonymously();
  for (const title of ['Gamma', 'Alpha', 'Delta', 'Beta']) {
    const id = uuid();
    await sb.rpc('upsert_project_overview', { p_project_id: id, p_title: title });
    if (title === 'Delta') await sb.rpc('archive_project', { p_project_id: id });
  }
  const list = (args = {}, options = {}) => sb.rpc('list_project_overviews', args, options);
  const firstTwo = await list({ p_include_archived: true })
    .select('title')
    .eq('archived', false)
    .order('title')
    .limit(2);
  const descending = await list().select('title').in('title', ['Alpha', 'Gamma']).order('title', {
    ascending: false,
  });
  const archived = await list({ p_include_archived: true }).select('title').order('title');
  const page = await list({}, { count: 'exact' }).select('title').order('title', {
    ascending: false,
  }).range(0, 0);
  const single = await list().select('title,scene_count').eq('title', 'Alpha').single();
  const none = await list().select('title').eq('title', 'Omega').single();
  await sb.auth.signOut();
  return {
    unarchived_first_two: titles(firstTwo),
    selected_columns: firstTwo.data ? Object.keys(firstTwo.data[0]) : firstTwo.error,
    in_filter_descending: titles(descending),
    archived_included: titles(archived),
    exact_count: page.count,
    first_page: titles(page),
    single_row: single.error ?? single.data,
    single_of_no_row_error: none.error?.code ?? null,
  };
}
