/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a fuzz target over its corpus (tests/fuzz/corpus/NAME: the seeds and every crash a
 * fuzzer ever found, kept as regression inputs) in the ordinary build, so the test suite
 * replays them under ASan/UBSan and valgrind. Arguments: files or folders (default: the
 * target's corpus under LW_SRCDIR). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t n_inputs;

static int replay_file(const char *path) {
        FILE *f = fopen(path, "rbe");
        uint8_t *buf;
        long n;

        if (!f)
                return -1;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t) n + 1);
        if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
                fclose(f);
                free(buf);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
        n_inputs++;
        return 0;
}

static int replay(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        int r = 0;

        if (!d)
                return replay_file(path);
        while ((de = readdir(d))) {
                char p[4096];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
                if (replay_file(p) < 0)
                        r = -1;
        }
        closedir(d);
        return r;
}

int main(int argc, char **argv) {
        char dflt[4096];
        const char *src = getenv("LW_SRCDIR");
        int r = 0;

        if (argc < 2) {
                snprintf(dflt, sizeof(dflt), "%s/tests/fuzz/corpus/%s", src ? src : "..", FUZZ_NAME);
                r = replay(dflt);
        }
        for (int i = 1; i < argc; i++)
                if (replay(argv[i]) < 0)
                        r = -1;
        printf("%s: %zu inputs replayed\n", FUZZ_NAME, n_inputs);
        return r < 0 || n_inputs == 0 ? 1 : 0;
}
