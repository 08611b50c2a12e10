/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of name escaping: valid UTF-8 passes, everything else becomes \xNN. */
#include <string.h>

#include "escape.h"
#include "lwtest.h"

static void eq(const char *in, const char *want) {
        char *out = escape_bytes(in);
        CHECK(out && strcmp(out, want) == 0, "escape(%s) = %s, want %s", in, out, want);
        free(out);
}

int main(void) {
        eq("plain.jsonl.lock", "plain.jsonl.lock");
        eq("caf\xc3\xa9", "caf\xc3\xa9");
        eq("\xe2\x82\xac\xf0\x9f\x94\x92", "\xe2\x82\xac\xf0\x9f\x94\x92");
        eq("a\nb", "a\\x0ab");
        eq("back\\slash", "back\\\\slash");
        eq("\xff", "\\xff");
        eq("\xc0\xaf", "\\xc0\\xaf");          /* overlong */
        eq("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate */
        eq("\xe2\x82", "\\xe2\\x82");          /* truncated */
        eq("\x7f", "\\x7f");
        char *p = escape_path("/d", "x\ty");
        CHECK(strcmp(p, "/d/x\\x09y") == 0, "path %s", p);
        free(p);
        /* A folder on its own (no entry name) is the folder, not "folder/(null)". */
        p = escape_path("/d/sessions", NULL);
        CHECK(strcmp(p, "/d/sessions") == 0, "folder alone %s", p);
        free(p);
        return 0;
}
