/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc.h: facts about processes read from /proc. These are the ground truth the holder map is
 * confirmed against whenever kernel events alone are ambiguous. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "file-id.h"

/* A comm is at most 15 bytes, each escaped into at most 4 (escape.h) */
#define COMM_MAX 64

/* How a pid read from a lock's payload was tied to a process of this host. A pid is written as
 * its writer sees it: inside a container, in the container's pid namespace. */
typedef enum OwnerNs {
        OWNER_NS_HOST,        /* a process that created or holds the lock has that pid here */
        OWNER_NS_MAPPED,      /* ... has that pid in its own (nested) pid namespace */
        OWNER_NS_STARTTIME,   /* no writer accounts for it, but the process with that pid here
                               * has the payload's start time */
        OWNER_NS_UNVERIFIED,  /* nothing ties the pid to a process of this host */
        _OWNER_NS_MAX,
        _OWNER_NS_INVALID = -22,
} OwnerNs;

/* Which process here wrote WANT as its own pid: the first of CANDIDATES (pids here: the lock's
 * creator, its writers; NS_PIDS[i] their pids in their own namespace when already known, else
 * 0, or NS_PIDS NULL) whose pid in its own pid namespace is WANT; else the process WANT here if
 * its start time is STARTTIME (HAS_STARTTIME); else none (*ret_host = WANT). NS_PIDS[i] < 0:
 * that candidate was gone before it could be asked (skipped: a recycled pid would lie). */
OwnerNs proc_resolve_pid(pid_t want, const pid_t *candidates, const pid_t *ns_pids, size_t n,
                         bool has_starttime, uint64_t starttime, pid_t *ret_host);

/* Field 22 of /proc/PID/stat. -ENOENT/-ESRCH when the process is gone. */
int proc_starttime(pid_t pid, uint64_t *ret);
/* The same, and in *RET_ALIVE whether it is neither a zombie nor dead (proc_alive), from one
 * read of /proc/PID/stat. */
int proc_starttime_alive(pid_t pid, uint64_t *ret, bool *ret_alive);
/* 'R', 'S', 'Z', ... */
int proc_state(pid_t pid, char *ret);
/* A process with that pid exists and is not a zombie (or dead). */
bool proc_alive(pid_t pid);
/* Best effort: "?" when unknown. Always NUL-terminates. Escaped (escape.h): a comm is any
 * bytes its process chose, and reports are UTF-8 text that may reach a terminal. */
void proc_comm(pid_t pid, char buf[static COMM_MAX]);

/* Best effort: the executable's path, escaped, "?" when unknown (e.g. the process is gone). */
void proc_exe(pid_t pid, char *buf, size_t size);
/* The systemd unit the process runs in (a .service or .scope, the innermost one: a user's
 * app scope rather than user@UID.service), from /proc/PID/cgroup, escaped. -ENOENT when there is
 * none (not under systemd, or the process is gone). */
int proc_unit(pid_t pid, char *buf, size_t size);

/* Is PID's fd FD the file FID (NULL: anything)? True also when the fd is gone meanwhile. */
bool proc_fd_is(pid_t pid, int fd, const FileId *fid);

/* Which fd of PID is the file (DEV, INO), and, when FID is not NULL, that very file (an inode
 * number freed and reused by a newer file is not the same file; an fd that closes while it is
 * looked at still counts)? One walk of /proc/PID/fd for every question, told by FLAGS:
 *   PROC_FD_FOR_WRITE  only an fd open for writing (the one a lock holder keeps: a re-read is
 *                      not), and proven: an fd that closes while it is looked at does not count;
 *   PROC_FD_BY_HANDLE  the file with handle FID on DEV (required), whatever its inode number (a
 *                      file we never stat'ed, perhaps unlinked already): positive evidence only.
 * 1 and *ret_fd (may be NULL), 0 no (including: the process is gone or is exiting and has no fd
 * table any more), -errno when /proc cannot tell (e.g. -EACCES). */
#define PROC_FD_FOR_WRITE (1u << 0)
#define PROC_FD_BY_HANDLE (1u << 1)
int proc_pid_find_fd(pid_t pid, dev_t dev, ino_t ino, const FileId *fid, unsigned flags, int *ret_fd);
/* How PID's fd FD is open, if it is open on the file INO (and with FID not NULL, that very
 * file): PROC_FD_WRITE (O_WRONLY or O_RDWR: a lock holder's descriptor), PROC_FD_READ
 * (read-only: a contender, a reader); 0 when it is open on another file; -errno when unknown
 * (the fd or the process is gone, or we may not look). The file and the flags are those of one
 * open file: /proc/PID/fdinfo/FD is read before and after the file is identified, and an fd
 * number closed and opened again in between (on another file, or another way) is another
 * file. */
#define PROC_FD_READ 1
#define PROC_FD_WRITE 2
int proc_fd_access_of(pid_t pid, int fd, ino_t ino, const FileId *fid);
/* A test seam, not for the daemon: a program that defines it is called back between those two
 * reads (src/kernel/test-proc.c reopens the fd there). */
extern void proc_fd_access_between(pid_t pid, int fd) __attribute__((weak));
/* The pid PID has in its own (innermost) pid namespace: the last field of NSpid in
 * /proc/PID/status, and the number of namespaces below ours it is nested in (0: ours). */
int proc_nspid(pid_t pid, pid_t *ret_inner, unsigned *ret_depth);
/* PID's argv, NUL-separated, cut at SIZE - 1 bytes and NUL-terminated; *ret_len bytes. */
int proc_cmdline(pid_t pid, char *buf, size_t size, size_t *ret_len);
/* Every process that holds the file (DEV, INO, FID) open for writing, from one walk of /proc:
 * up to MAX pids into RET (the count is returned, it may exceed MAX), -errno when /proc cannot
 * be read. *ret_readers counts the read-only descriptors of it (up to MAX_READERS of their
 * processes into READERS, which may be NULL), and *ret_hidden is set when some live process's
 * fds could not be read (no privilege). */
int proc_find_writers(dev_t dev, ino_t ino, const FileId *fid, pid_t *ret, size_t max, pid_t *readers,
                      size_t max_readers, size_t *ret_readers, bool *ret_hidden);
/* "r", "w", "rw" (from /proc/PID/fdinfo/FD), "?" when unknown. */
const char *proc_fd_mode(pid_t pid, int fd);
/* May we see what PID's fds are (ptrace read access: our own processes', or anyone's with
 * cap_sys_ptrace)? A process that is gone has nothing to hide: true. */
bool proc_fds_visible(pid_t pid);

/* Calls cb for every open fd of every process: (pid, fd, dev, ino). Processes and fds that
 * vanish during the walk are skipped. The callback returns <0 to abort. */
typedef int (*ProcFdCallback)(pid_t pid, int fd, dev_t dev, ino_t ino, void *userdata);
int proc_walk_fds(pid_t only_pid, ProcFdCallback cb, void *userdata);
