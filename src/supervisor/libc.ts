/**
 * The few libc functions Node does not expose, bound once through koffi (an optional
 * dependency, FFI). Callers must cope with `loadLibc()` throwing (koffi missing or not built
 * for this platform) or use `tryLoadLibc()`, which returns undefined then, and fall back.
 */
import { createRequire } from 'node:module';

export interface Libc {
  /** waitpid(2); `status[0]` receives the wait status. */
  waitpid(pid: number, status: [number], options: number): number;
  /** prctl(2), variadic: each further argument is preceded by its C type, e.g. 'unsigned long', 1. */
  prctl(option: number, ...typedArgs: unknown[]): number;
  /** pipe2(2); `fds` receives the read end at [0] and the write end at [1]. */
  pipe2(fds: Int32Array, flags: number): number;
  /** fcntl(2), variadic like prctl: fcntl(fd, F_SETPIPE_SZ, 'int', size). */
  fcntl(fd: number, cmd: number, ...typedArgs: unknown[]): number;
  /** errno of the last call made through koffi on this thread. */
  errno(): number;
}

// Linux values (x86-64, arm64 and the other asm-generic architectures).
export const WNOHANG = 1;
export const PR_SET_CHILD_SUBREAPER = 36;
export const O_CLOEXEC = 0o2000000;
export const F_SETPIPE_SZ = 1031;
export const F_GETPIPE_SZ = 1032;

// The subset of koffi used here; typed locally so the build does not depend on the
// optional dependency being installed.
interface Koffi {
  load(path: string | null): { func(prototype: string): (...args: unknown[]) => unknown };
  errno(): number;
}

let loaded: { libc: Libc } | { error: unknown } | undefined;

/**
 * Binds the functions through koffi, once per process (later calls return the same object,
 * or throw the same error). load(null) resolves symbols in the process's global scope
 * (RTLD_DEFAULT), i.e. whatever libc node is linked against: glibc (libc.so.6) and musl
 * (Alpine) alike, with no file name to guess.
 */
export function loadLibc(): Libc {
  loaded ??= bind();
  if ('error' in loaded) throw loaded.error;
  return loaded.libc;
}

/** loadLibc(), or undefined when koffi cannot be loaded here. */
export function tryLoadLibc(): Libc | undefined {
  try {
    return loadLibc();
  } catch {
    return undefined;
  }
}

function bind(): { libc: Libc } | { error: unknown } {
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const lib = koffi.load(null);
    const waitpid = lib.func('int waitpid(int pid, _Out_ int *status, int options)');
    const prctl = lib.func('int prctl(int option, ...)');
    const pipe2 = lib.func('int pipe2(_Out_ int *fds, int flags)');
    const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
    const libc: Libc = {
      waitpid: (pid, status, options) => waitpid(pid, status, options) as number,
      prctl: (option, ...typedArgs) => prctl(option, ...typedArgs) as number,
      pipe2: (fds, flags) => pipe2(fds, flags) as number,
      fcntl: (fd, cmd, ...typedArgs) => fcntl(fd, cmd, ...typedArgs) as number,
      errno: () => koffi.errno(),
    };
    return { libc };
  } catch (error) {
    return { error };
  }
}
