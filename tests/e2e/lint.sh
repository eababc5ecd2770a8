#!/bin/sh
# The suite's own honesty: no check in tests/e2e that cannot fail for the
# way it is written. The shell splits `check DESC [ A ] && [ B ]` into
# `check DESC [ A ]` and `[ B ]`, so only A is asserted (issue 14); the
# same for ||, | and & after a check or expect_rc, and for `COND && ok
# DESC`, which prints ok or nothing, never FAIL. Each script is read as
# the shell reads it (quotes, $(...), comments, line continuations) and
# every such place is reported as FILE:LINE.
. "$(dirname "$0")/lib.sh"

# lint FILE: one line "LINE: what" per dishonest check.
lint() {
	awk '
	function top() { return sp == 0 || st[sp] == "C" }
	function push(c) { st[++sp] = c; if (c == "C") par[sp] = 0 }
	function flag(what) { print line ": " what }
	# the end of a command: an "&& ok" without "|| fail" is reported
	function endcmd() {
		if (okline) { line = okline; flag("&& ok prints ok or nothing, never FAIL") }
		okline = 0; chk = 0
	}
	# the next word after position i, skipping blanks and continuations
	function next_word(i,   w, c) {
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == " " || c == "\t" || c == "\n") { i++; continue }
			if (c == "\\" && substr(s, i + 1, 1) == "\n") { i += 2; continue }
			break
		}
		w = substr(s, i)
		sub(/[^A-Za-z0-9_].*/, "", w)
		return w
	}
	{ s = s $0 "\n" }
	END {
		n = length(s); sp = 0; ln = 1; bol = 1; chk = 0; okline = 0; nhd = 0
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1); d = substr(s, i + 1, 1)
			if (c == "\n") ln++
			if (sp > 0 && st[sp] == "S") {
				if (c == "\047") sp--
				continue
			}
			if (sp > 0 && st[sp] == "D") {
				if (c == "\\") { if (d == "\n") ln++; i++ }
				else if (c == "\"") sp--
				else if (c == "$" && d == "(") { push("C"); i++ }
				continue
			}
			# code: top level or inside $(...)
			if (c == "\\") { if (d == "\n") ln++; i++; bol = 0; continue }
			if (c == "\047") { push("S"); bol = 0; continue }
			if (c == "\"") { push("D"); bol = 0; continue }
			if (c == "$" && d == "(") { push("C"); i++; bol = 0; continue }
			if (sp > 0 && c == "(") { par[sp]++; continue }
			if (sp > 0 && c == ")") {
				if (par[sp]-- == 0) sp--
				continue
			}
			if (c == "#" && (bol || prev ~ /[ \t;]/)) {
				while (i < n && substr(s, i + 1, 1) != "\n") i++
				continue
			}
			if (c == "<" && d == "<" && substr(s, i + 2, 1) != "<") {
				# a here-document: its body is data, not code
				j = i + 2; strip = 0
				if (substr(s, j, 1) == "-") { strip = 1; j++ }
				while (substr(s, j, 1) ~ /[ \t]/) j++
				w = substr(s, j); sub(/[ \t;&|<>\n].*/, "", w)
				gsub(/[\047"\\]/, "", w)
				hd[++nhd] = w; hs[nhd] = strip
				i = j - 1; continue
			}
			if (c == ";" && sp == 0) endcmd()
			if (c == "\n") {
				if (sp == 0) endcmd()
				bol = 1; prev = c
				for (k = 1; k <= nhd; k++) {
					# skip the body up to its delimiter line
					while (i < n) {
						e = index(substr(s, i + 1), "\n")
						if (e == 0) { i = n; break }
						l = substr(s, i + 1, e - 1); i += e; ln++
						if (hs[k]) sub(/^\t+/, "", l)
						if (l == hd[k]) break
					}
				}
				nhd = 0
				continue
			}
			if (bol && c !~ /[ \t]/) {
				bol = 0
				w = substr(s, i); sub(/[^A-Za-z0-9_].*/, "", w)
				if (sp == 0 && (w == "check" || w == "expect_rc")) {
					chk = 1; line = ln; cmd = w
				}
			}
			if (sp == 0 && (c == "&" || c == "|")) {
				op = (d == c) ? c c : c
				if (c == "&" && (prev == ">" || prev == "<")) { prev = c; continue }
				if (chk)
					flag(cmd " asserts only what comes before " op)
				if (op == "&&" && next_word(i + 2) == "ok")
					okline = ln
				if (op == "||" && next_word(i + 2) == "fail")
					okline = 0
				if (op == "||" && next_word(i + 2) == "ok")
					{ line = ln; flag("|| ok: ok when the condition fails") }
				chk = 0
				if (op == c c) i++
			}
			prev = c
		}
		endcmd()
	}' "$1"
}

n=0
for f in "$TOP"/tests/e2e/*.sh; do
	name=${f##*/}
	out=$(lint "$f")
	if [ -z "$out" ]; then
		n=$((n + 1))
	else
		echo "$out" | while IFS= read -r l; do
			fail "lint: $name:$l"
		done
	fi
done
check "lint: $n scripts, every check and ok asserts all it says" [ "$n" -gt 0 ]

# The linter itself: each dishonest form is found, honest ones are not.
cat >"$TESTDIR/bad.sh" <<'EOF'
check "two" [ "$n" -eq 3 ] && [ "$m" -eq 3 ]
check "cont" \
    [ -n "$a" ] || [ -n "$b" ]
expect_rc 0 "piped" qrun status | grep -q x
[ "$rc" -eq 0 ] && ok "silent when wrong"
EOF
cat >"$TESTDIR/good.sh" <<'EOF'
# check "in a comment" [ a ] && [ b ]
check "in sh -c" sh -c "[ a ] && [ b ] | cat"
check "subst" [ "$(echo a | tr a b)" = b ]
check "multi" sh -c "x &&
    y || z"
expect_rc 125 "redirect" qrun x 2>"$TESTDIR/e" >&2
if [ a ]; then ok "x"; else fail "x"; fi
[ a ] && ok "y" || fail "y"
EOF
got=$(lint "$TESTDIR/bad.sh" | cut -d: -f1 | tr '\n' ' ')
check "lint finds check &&, check || across lines, expect_rc |, && ok (lines $got)" \
    [ "$got" = "1 2 4 5 " ]
got=$(lint "$TESTDIR/good.sh")
check "lint passes comments, sh -c, \$(...), redirections, if/else ($got)" \
    [ -z "$got" ]
