import { createRouteGroup } from '../http/route-group.ts';
import { membersRoutes } from '../routes/members.ts';
import { eraseMember } from '../services/erasure.ts';
import { enrolMember, findMembers, readMember, updateMemberProfile } from '../services/members.ts';

export const handler = createRouteGroup(membersRoutes, {
  createMember: (input, ctx) => enrolMember(ctx, input.body),
  findMembers: (input, ctx) => findMembers(ctx, input.query.externalRef),
  getMember: (input, ctx) => readMember(ctx, input.params.memberId),
  updateMember: (input, ctx) => updateMemberProfile(ctx, input.params.memberId, input.body),
  eraseMember: (input, ctx) => eraseMember(ctx, input.params.memberId),
});
