// functions.invoke('enqueue_clip'): a job, the same job on replay, the job over rpc, a bad body.
export default async function ({ client, uuid }) {
  const sb = client();
  const { data: session } = await sb.auth.signInAnonymously();
  const projectId = uuid();
  const sceneId = uuid();
  const jobId = uuid();
  await sb.rpc('upsert_project_overview', { p_project_id: projectId, p_title: 'Film' });
  await sb.rpc('create_scene_draft', {
    p_id: sceneId,
    p_project_id: projectId,
    p_prompt_text: 'A lighthouse in a storm',
    p_duration: 3.0,
  });
  const body = {
    job_id: jobId,
    prompt: 'A lighthouse in a storm',
    user_key: session.user.id,
    project_id: projectId,
    scene_draft_id: sceneId,
  };
  const job = await sb.functions.invoke('enqueue_clip', { body });
  const replay = await sb.functions.invoke('enqueue_clip', { body });
  const status = await sb.rpc('get_clip_job_status', { p_job_id: jobId });
  const invalid = await sb.functions.invoke('enqueue_clip', { body: { job_id: 'not a uuid' } });
  await sb.auth.signOut();
  return {
    // The stack's dispatcher may already have claimed the job when the answer is written.
    status_is_queued_or_processing: ['queued', 'processing'].includes(job.data?.status),
    charge: job.data?.charge ?? null,
    job_is_the_requested_one: job.data?.id === jobId,
    replay_is_the_same_job: replay.data?.id === jobId,
    rpc_sees_the_job: status.data?.id === jobId,
    invalid_body_status: invalid.error?.context?.status ?? null,
  };
}
