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
        /* C1 controls are valid UTF-8 but act on a terminal (U+009B is the 8-bit CSI). */
        eq("a\xc2\x9b" "2J", "a\\xc2\\x9b2J");
        eq("\xc2\x80\xc2\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9f\xc2\xa0");
        /* For a terminal: controls and invalid bytes escaped, text escaped before unchanged. */
        char *t = escape_terminal("s\x1b]0;owned\x07 \\x1b \xc2\x9b \xff");
        CHECK(t && strcmp(t, "s\\x1b]0;owned\\x07 \\x1b \\xc2\\x9b \\xff") == 0, "terminal %s", t);
        free(t);
        char *p = escape_path("/d", "x\ty");
        CHECK(strcmp(p, "/d/x\\x09y") == 0, "path %s", p);
        free(p);
        /* A folder on its own (no entry name) is the folder, not "folder/(null)". */
        p = escape_path("/d/sessions", NULL);
        CHECK(strcmp(p, "/d/sessions") == 0, "folder alone %s", p);
        free(p);
        return 0;
}
