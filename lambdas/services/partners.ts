import { ConflictError, NotFoundError } from '../domain/errors.ts';
import type { CreatePartnerBody, Partner, UpdatePartnerBody } from '../schemas/partners.ts';
import { getPartner, listPartners, putNewPartner, updatePartner } from '../store/partner-store.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';
import { createResource } from './create-resource.ts';

export async function createPartner(ctx: RequestContext, body: CreatePartnerBody): Promise<UseCaseResponse> {
  const partner: Partner = {
    id: body.id,
    name: body.name,
    earnRule: body.earnRule,
    categoryMultipliers: body.categoryMultipliers ?? {},
    fundingRateMinor: body.fundingRateMinor,
    reimbursementRateMinor: body.reimbursementRateMinor,
    status: body.status,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  return createResource(
    ctx,
    [putNewPartner(ctx.store, partner)],
    { status: 201, body: partner },
    () => new ConflictError(`A partner with id ${body.id} already exists.`),
  );
}

/** A partner key sees only its own partner: others do not exist for it (404, not 403). */
function assertVisible(ctx: RequestContext, partnerId: string): void {
  if (ctx.principal.role === 'partner' && ctx.principal.partnerId !== partnerId) {
    throw new NotFoundError(`No partner ${partnerId}.`);
  }
}

export async function readPartner(ctx: RequestContext, partnerId: string): Promise<UseCaseResponse> {
  assertVisible(ctx, partnerId);
  const partner = await getPartner(ctx.store, partnerId);
  if (!partner) throw new NotFoundError(`No partner ${partnerId}.`);
  return respond(200, partner);
}

export async function listPartnersFor(
  ctx: RequestContext,
  query: { limit: number; cursor?: string },
): Promise<UseCaseResponse> {
  const own = ctx.principal.role === 'partner' ? ctx.principal.partnerId : null;
  if (own !== null) {
    const partner = await getPartner(ctx.store, own);
    return respond(200, { items: partner ? [partner] : [], nextCursor: null });
  }
  return respond(200, await listPartners(ctx.store, query.limit, query.cursor));
}

export async function changePartner(
  ctx: RequestContext,
  partnerId: string,
  changes: UpdatePartnerBody,
): Promise<UseCaseResponse> {
  return respond(200, await updatePartner(ctx.store, partnerId, changes, ctx.now));
}
