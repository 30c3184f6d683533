import http from 'node:http';

/** The port cannot be taken: one line for the person starting the service. */
export class PortUnavailableError extends Error {}

export interface OpenPort {
  server: http.Server;
  /** Hands requests to the app; until then they are answered 503 "starting". */
  serve(handler: http.RequestListener): void;
}

/**
 * Takes the HTTP port first, before the database and workers start, so a port in use is told at
 * once in one plain line naming PORT. Requests that arrive while the service is still starting
 * are answered 503 with Retry-After.
 */
export async function openPort(port: number): Promise<OpenPort> {
  let handler: http.RequestListener = (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
    res.end(JSON.stringify({ error: { code: 'unavailable', message: 'the service is starting; try again in a moment' } }));
  };
  const server = http.createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new PortUnavailableError(`Port ${port} is already in use (PORT=${port}): stop the program using it, or set PORT to a free port.`));
      } else if (err.code === 'EACCES') {
        reject(new PortUnavailableError(`Port ${port} needs privileges this user does not have (PORT=${port}): set PORT to 1024 or above.`));
      } else {
        reject(err);
      }
    });
    server.listen(port, () => resolve());
  });
  return { server, serve: (h) => { handler = h; } };
}
