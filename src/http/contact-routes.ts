import express, { Router } from 'express';
import { getContactJson, listContacts, patchContact } from '../contacts/contact-directory.ts';
import { importContacts, MAX_CONTACTS_CSV_BYTES } from '../contacts/contact-import.ts';
import { findSync, startFollowerSync } from '../contacts/follower-sync.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';
import { receiveFile } from './serials-routes.ts';

/** Contacts: list and search, tags and language, CSV import, follower sync. */
export const contactRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const admin = requireRole(auth, 'marketer');

  router.get('/api/v1/contacts', admin, async (req, res) => {
    res.json(await listContacts(ctx.db, req.query));
  });

  router.get('/api/v1/contacts/:id', admin, async (req, res) => {
    res.json(await getContactJson(ctx.db, req.params.id as string));
  });

  router.patch('/api/v1/contacts/:id', admin, express.json({ limit: '64kb' }), async (req, res) => {
    res.json(await patchContact(ctx.db, req.params.id as string, req.body));
  });

  router.post('/api/v1/contacts/import', admin, async (req, res) => {
    const upload = await receiveFile(req, MAX_CONTACTS_CSV_BYTES, (file) => importContacts(ctx, file));
    res.json(upload.value);
  });

  router.post('/api/v1/contacts/sync', admin, express.json({ limit: '4kb' }), async (req, res) => {
    const sync = await startFollowerSync(ctx, req.body);
    res.status(202).location(`/api/v1/imports/${sync.id}`).json(sync);
  });

  // Follower syncs are polled where serial imports are; serial imports answer the other ids.
  router.get('/api/v1/imports/:id', admin, async (req, res, next) => {
    const sync = await findSync(ctx, req.params.id as string);
    if (!sync) {
      next();
      return;
    }
    res.json(sync);
  });

  return router;
};
