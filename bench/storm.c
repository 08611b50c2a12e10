/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storm: the throughput benchmark's load on its own, for profiling (bench/profile.sh).
 * 2 processes, each cycling over 64 transcripts in DIR: open(O_APPEND|O_CREAT), one write,
 * close; every 8th cycle the file is unlinked. Prints the cycles done after SECONDS.
 *
 *   storm DIR SECONDS */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void) {
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t) t.tv_sec * 1000000000ull + (uint64_t) t.tv_nsec;
}

int main(int argc, char **argv) {
        uint64_t *counts;

        if (argc != 3) {
                fprintf(stderr, "usage: storm DIR SECONDS\n");
                return 2;
        }
        counts = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (counts == MAP_FAILED)
                return 1;
        for (int w = 0; w < 2; w++) {
                pid_t p = fork();

                if (p < 0)
                        return 1;
                if (p == 0) {
                        uint64_t end = mono_ns() + (uint64_t) atoi(argv[2]) * 1000000000ull, n = 0;
                        char name[4400];

                        while ((n & 63) || mono_ns() < end) {
                                snprintf(name, sizeof(name), "%s/w%d-%02d.jsonl", argv[1], w, (int) (n & 63));
                                int fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                                if (fd >= 0) {
                                        if (write(fd, "{\"storm\":true}\n", 15) != 15)
                                                _exit(1);
                                        close(fd);
                                }
                                if ((n & 7) == 7)
                                        unlink(name);
                                n++;
                        }
                        counts[w] = n;
                        _exit(0);
                }
        }
        while (wait(NULL) > 0)
                ;
        printf("%llu\n", (unsigned long long) (counts[0] + counts[1]));
        return 0;
}
