// The three supervisors under test, each set up on the same fixture programs.
//
// A service is { name, program: 'announce' | 'spew' }. Every supervisor runs the very
// binary; s6 through a ./run symlink to it (s6-supervise runs ./run with no arguments,
// inside the service directory: the fixture takes its name from that directory and its
// socket path / line count from the environment, which s6 passes down), the others with
// arguments on the command line.
import { mkdirSync, symlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

function argvFor(service, ctx) {
  const program = path.join(ctx.binDir, service.program);
  return service.program === 'announce'
    ? [program, service.name, ctx.sock]
    : [program, String(ctx.lines)];
}

function output(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(); } catch { return null; }
}

function debVersion(pkg) {
  return output('dpkg-query', ['-W', '-f', '${Version}', pkg]);
}

export const s6 = {
  id: 's6',
  title: 's6',
  available() {
    return output('sh', ['-c', 'command -v s6-svscan && command -v s6-supervise']) ? { ok: true } : { ok: false, why: 's6-svscan / s6-supervise not found (apt-get install -y s6)' };
  },
  version() {
    return `s6 ${debVersion('s6') ?? '?'} (s6-svscan + s6-supervise, no logger)`;
  },
  prepare(dir, services, ctx) {
    const scan = path.join(dir, 'scan');
    mkdirSync(scan, { recursive: true });
    for (const service of services) {
      const svc = path.join(scan, service.name);
      mkdirSync(svc);
      symlinkSync(path.join(ctx.binDir, service.program), path.join(svc, 'run'));
    }
    return { command: 's6-svscan', args: [scan], cwd: dir, env: {} };
  },
};

export const supervisord = {
  id: 'supervisord',
  title: 'supervisord',
  available() {
    return output('sh', ['-c', 'command -v supervisord']) ? { ok: true } : { ok: false, why: 'supervisord not found (apt-get install -y supervisor)' };
  },
  version() {
    return `supervisord ${output('supervisord', ['--version']) ?? debVersion('supervisor') ?? '?'} on ${output('sh', ['-c', "head -1 \"$(command -v supervisord)\" | sed 's/^#! *//'"]) ?? 'python'}`;
  },
  prepare(dir, services, ctx) {
    // Defaults everywhere except: output to supervisord's own stdout, unrotated (as
    // asked), and its log/pid files kept in the run's temp dir rather than the cwd / /tmp.
    const lines = [
      '[supervisord]',
      'nodaemon=true',
      `logfile=${path.join(dir, 'supervisord.log')}`,
      `pidfile=${path.join(dir, 'supervisord.pid')}`,
      `childlogdir=${dir}`,
      '',
    ];
    for (const service of services) {
      lines.push(
        `[program:${service.name}]`,
        `command=${argvFor(service, ctx).join(' ')}`,
        'stdout_logfile=/dev/stdout',
        'stdout_logfile_maxbytes=0',
        '',
      );
    }
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(conf, lines.join('\n'));
    return { command: 'supervisord', args: ['-n', '-c', conf], cwd: dir, env: {} };
  },
};

export function keaKnot(repoDir) {
  const main = path.join(repoDir, 'dist', 'cli', 'main.js');
  return {
    id: 'kea-knot',
    title: 'kea-knot',
    available() {
      if (!existsSync(main)) return { ok: false, why: `${path.relative(repoDir, main)} missing (npm run build)` };
      const help = output(process.execPath, [main, 'supervise', '--help']);
      if (help === null) return { ok: false, why: '`node dist/cli/main.js supervise --help` failed' };
      return { ok: true };
    },
    version() {
      let version = '?';
      try { version = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')).version; } catch { /* keep ? */ }
      const rev = output('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']);
      const dirty = output('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no', '--', 'src']);
      return `kea-knot ${version}${rev ? ` (${rev}${dirty ? ', src modified' : ''})` : ''} on node ${process.version}`;
    },
    prepare(dir, services, ctx) {
      const servicesDir = path.join(dir, 'services.d');
      mkdirSync(servicesDir, { recursive: true });
      for (const service of services) {
        // JSON is YAML; defaults for everything but the command, except in the respawn test
        // (ctx.respawn), where each kill must count as a crash after a healthy run
        // (reset_after) and 30 kills in a minute must not mark the service failed
        // (max_crashes): neither s6 nor supervisord gives up on such a service.
        const file = { name: service.name, command: argvFor(service, ctx) };
        if (ctx.respawn) {
          const backoff = {};
          if (ctx.keaKnotResetAfter) backoff.reset_after = ctx.keaKnotResetAfter;
          if (ctx.keaKnotMaxCrashes) backoff.max_crashes = Number(ctx.keaKnotMaxCrashes);
          if (Object.keys(backoff).length) file.backoff = backoff;
        }
        writeFileSync(path.join(servicesDir, `${service.name}.yaml`), JSON.stringify(file, null, 2) + '\n');
      }
      // The control API socket (on by default) goes in the run's temp dir, not /run/kea-knot.
      return { command: process.execPath, args: [main, 'supervise', '--services-dir', servicesDir], cwd: dir, env: { KEA_KNOT_SOCKET: path.join(dir, 'api.sock') } };
    },
  };
}
