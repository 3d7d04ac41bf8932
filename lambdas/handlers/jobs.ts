import { createRouteGroup } from '../http/route-group.ts';
import { jobsRoutes } from '../routes/jobs.ts';
import { runJob } from '../services/jobs.ts';

export const handler = createRouteGroup(jobsRoutes, {
  runJob: (input, ctx) => runJob(ctx, input.params.name, input.body),
});
