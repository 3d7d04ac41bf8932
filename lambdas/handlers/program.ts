import { createRouteGroup } from '../http/route-group.ts';
import { readProgram, replaceProgram } from '../services/program.ts';

export const handler = createRouteGroup('program', {
  getProgram: (_input, ctx) => readProgram(ctx),
  putProgram: (input, ctx) => replaceProgram(ctx, input.body),
});
