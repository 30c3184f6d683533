import express, { Router } from 'express';
import { auditCsvColumns, auditCsvLine, auditEntryToJson, auditPage, parseAuditQuery } from '../people/audit.ts';
import {
  changeRole, createPerson, createToken, getPerson, listPeople, listTokens, personToJson, removePerson, revokeToken, tokenToJson,
} from '../people/people.ts';
import { principals } from '../people/roles.ts';
import { listSessions, revokeSessions, sessionToJson } from '../people/sessions.ts';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';

const actorOf = (res: express.Response) => res.locals.actor as RequestActor;

/** People, their API tokens and sessions, and the audit log: the owner's. `/api/v1/me` is anyone's. */
export const peopleRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const owner = requireRole(auth, 'owner');
  router.use(['/api/v1/people', '/api/v1/audit'], express.json({ limit: '10kb' }));

  router.get('/api/v1/me', requireRole(auth, ...principals), (_req, res) => {
    const a = actorOf(res);
    res.json({ id: a.id, name: a.name, role: a.role, via: a.via, ...(a.csrfToken ? { csrfToken: a.csrfToken } : {}) });
  });

  router.post('/api/v1/people', owner, async (req, res) => {
    const { person, token } = await createPerson(ctx, actorOf(res), req.body);
    res.status(201).location(`/api/v1/people/${person.id}`).json({ ...personToJson(person), token });
  });

  router.get('/api/v1/people', owner, async (_req, res) => {
    res.json({ people: (await listPeople(ctx.db)).map(personToJson) });
  });

  router.get('/api/v1/people/:id', owner, async (req, res) => {
    res.json(personToJson(await getPerson(ctx.db, req.params.id as string)));
  });

  router.patch('/api/v1/people/:id', owner, async (req, res) => {
    res.json(personToJson(await changeRole(ctx, actorOf(res), req.params.id as string, req.body)));
  });

  router.delete('/api/v1/people/:id', owner, async (req, res) => {
    const person = await removePerson(ctx, actorOf(res), req.params.id as string);
    res.json({ ...personToJson(person), removed: true });
  });

  router.get('/api/v1/people/:id/tokens', owner, async (req, res) => {
    res.json({ tokens: (await listTokens(ctx.db, req.params.id as string)).map(tokenToJson) });
  });

  router.post('/api/v1/people/:id/tokens', owner, async (req, res) => {
    const t = await createToken(ctx, actorOf(res), req.params.id as string, req.body);
    res.status(201).json({ ...tokenToJson(t), token: t.token });
  });

  router.delete('/api/v1/people/:id/tokens/:tokenId', owner, async (req, res) => {
    await revokeToken(ctx, actorOf(res), req.params.id as string, req.params.tokenId as string);
    res.status(204).end();
  });

  router.get('/api/v1/people/:id/sessions', owner, async (req, res) => {
    const person = await getPerson(ctx.db, req.params.id as string);
    res.json({ sessions: (await listSessions(ctx, person.id)).map(sessionToJson) });
  });

  router.delete('/api/v1/people/:id/sessions', owner, async (req, res) => {
    const person = await getPerson(ctx.db, req.params.id as string);
    res.json({ revoked: await revokeSessions(ctx, actorOf(res), person) });
  });

  router.delete('/api/v1/people/:id/sessions/:sessionId', owner, async (req, res) => {
    const person = await getPerson(ctx.db, req.params.id as string);
    res.json({ revoked: await revokeSessions(ctx, actorOf(res), person, req.params.sessionId as string) });
  });

  router.get('/api/v1/audit', owner, async (req, res) => {
    const q = parseAuditQuery(req.query);
    if (q.format === 'json') {
      const entries = await auditPage(ctx.db, q);
      const next = entries.length === q.limit ? String(entries[entries.length - 1]!.id) : null;
      res.json({ entries: entries.map(auditEntryToJson), next });
      return;
    }
    // CSV: every matching entry, newest first, page by page.
    res.status(200).type('text/csv; charset=utf-8').attachment('audit.csv');
    res.write(`${auditCsvColumns.join(',')}\r\n`);
    let before: number | undefined;
    const page = { ...q, limit: 2000 };
    for (;;) {
      const entries = await auditPage(ctx.db, page, before);
      if (entries.length === 0) break;
      const ok = res.write(entries.map(auditCsvLine).join(''));
      before = entries[entries.length - 1]!.id;
      if (!ok) await new Promise((resolve) => res.once('drain', resolve));
      if (entries.length < page.limit || res.destroyed) break;
    }
    res.end();
  });

  return router;
};
