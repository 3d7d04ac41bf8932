import { listOf } from '../schemas/common.ts';
import * as members from '../schemas/members.ts';
import { ADMIN, ADMIN_PARTNER } from './access.ts';
import type { RouteSpec } from './spec.ts';

/** The routes of the `members` group: its function bundles these schemas and no others. */
export const membersRoutes = [
  {
    operationId: 'createMember',
    method: 'POST',
    path: '/v1/members',
    group: 'members',
    summary: 'Enrol a member',
    access: { roles: ADMIN_PARTNER, scope: 'members:write' },
    idempotency: 'optional',
    successStatus: 201,
    body: members.createMemberBody,
    example: { externalRef: 'cust-42', email: 'ada@example.com' },
    response: members.memberResponse,
  },
  {
    operationId: 'findMembers',
    method: 'GET',
    path: '/v1/members',
    group: 'members',
    summary: "Look a member up by the caller's externalRef",
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    query: members.findMembersQuery,
    response: listOf(members.memberResponse),
  },
  {
    operationId: 'getMember',
    method: 'GET',
    path: '/v1/members/{memberId}',
    group: 'members',
    summary: 'Read a member with balances and tier',
    access: { roles: ADMIN_PARTNER },
    successStatus: 200,
    params: members.memberParams,
    response: members.memberResponse,
  },
  {
    operationId: 'updateMember',
    method: 'PATCH',
    path: '/v1/members/{memberId}',
    group: 'members',
    summary: "Change a member's profile (email, name, channel; null clears)",
    access: { roles: ADMIN_PARTNER, scope: 'members:write' },
    successStatus: 200,
    params: members.memberParams,
    body: members.updateMemberBody,
    response: members.memberResponse,
  },
  {
    operationId: 'eraseMember',
    method: 'DELETE',
    path: '/v1/members/{memberId}',
    group: 'members',
    summary: 'Erase a member: profile removed, remaining points forfeited, ledger kept pseudonymously',
    access: { roles: ADMIN },
    successStatus: 200,
    params: members.memberParams,
    response: members.memberResponse,
  },
] as const satisfies readonly RouteSpec[];
