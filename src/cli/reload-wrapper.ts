#!/usr/bin/env node
// knot-reload, kea-dhcp4-reload, ...: reload the service the command is named after.
// Imports nothing heavy, so `docker exec c knot-reload` is quick.
import path from 'node:path';
import { exitCodeFor, KeaKnotError } from '../errors.js';
import { socketFrom } from '../client/socket.js';
import { reloadService } from './api-command.js';

const name = path.basename(process.argv[1] ?? '');
const service = name.endsWith('-reload') ? name.slice(0, -'-reload'.length) : '';
if (service === '' || process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`Usage: <service>-reload   (e.g. knot-reload, kea-dhcp4-reload)\n\nChecks the service's configuration and reloads it through the kea-knot supervisor.\nThe socket is $KEA_KNOT_SOCKET, else the supervisor's default. Exit 0 when reloaded,\n1 when the check or the reload failed, 69 when the supervisor cannot be reached.\n`);
  process.exit(service === '' ? 64 : 0);
}
reloadService(socketFrom(undefined, process.env), service, process.argv.includes('--json')).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const e = error instanceof KeaKnotError ? error : new KeaKnotError('E_IO', String(error));
    process.stderr.write(`${name}: ${e.message}\n${e.details.map((line) => `  ${line}\n`).join('')}`);
    process.exit(exitCodeFor(e));
  },
);
