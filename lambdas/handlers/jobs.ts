import { createRouteGroup } from '../http/route-group.ts';
import { runJob } from '../services/jobs.ts';

export const handler = createRouteGroup('jobs', {
  runJob: (input, ctx) => runJob(ctx, input.params.name, input.body),
});
