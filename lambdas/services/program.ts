import type { Program } from '../schemas/program.ts';
import { getProgram, putProgram } from '../store/program-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';

export async function readProgram(ctx: RequestContext): Promise<UseCaseResponse> {
  return respond(200, await getProgram(ctx.store));
}

/** PUT replaces the whole configuration; it applies to point movements from the next request on. */
export async function replaceProgram(ctx: RequestContext, program: Program): Promise<UseCaseResponse> {
  return respond(200, await putProgram(ctx.store, program, ctx.now));
}
