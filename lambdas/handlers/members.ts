import { createRouteGroup } from '../http/route-group.ts';
import { enrolMember, findMembers, readMember } from '../services/members.ts';

export const handler = createRouteGroup('members', {
  createMember: (input, ctx) => enrolMember(ctx, input.body),
  findMembers: (input, ctx) => findMembers(ctx, input.query.externalRef),
  getMember: (input, ctx) => readMember(ctx, input.params.memberId),
});
