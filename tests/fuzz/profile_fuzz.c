/*
 * profile_fuzz.c - libFuzzer target for the profile parser (built with
 * -DFUZZ_FILE: the input is a profile file, loaded with -p PATH) and for
 * -o parsing (-DFUZZ_SET: the input is KEY=VALUE lines, applied as -o
 * overrides and then one by one with profile_set). tests/fuzz/run builds
 * and runs both; not part of make check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qrun.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[64], path[96];

/* Keep the real /etc/qrun and ~/.config/qrun out of the picture. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/qrun-fuzz.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
	setenv("QRUN_SYSCONF_DIR", dir, 1);
	setenv("QRUN_CONFIG_DIR", dir, 1);
	return 0;
}

#ifdef FUZZ_FILE
static void
one(const char *text, size_t len)
{
	struct profile_src src = { .profile = path };
	struct strv diags = { 0 };
	struct config c;
	FILE *f;

	/* @include could name /dev/zero; the include path is not fuzzed */
	if (memmem(text, len, "@include", 8) != NULL)
		return;
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fwrite(text, 1, len, f);
	fclose(f);
	config_init(&c);
	profile_load(&c, &src, &diags);
	for (int k = 0; k < K_COUNT; k++)
		free(profile_get(&c, k));
	config_free(&c);
	strv_free(&diags);
}
#else
static void
one(const char *text, size_t len)
{
	struct strv lines = { 0 }, diags = { 0 };
	struct profile_src src = { .overrides = &lines };
	struct config c;
	char *copy = xmalloc(len + 1), *save = NULL, *l, *eq;

	memcpy(copy, text, len);
	copy[len] = '\0';
	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n",
	    &save))
		strv_push(&lines, l);
	config_init(&c);
	profile_load(&c, &src, &diags);
	for (size_t i = 0; i < lines.n; i++) {
		if ((eq = strchr(lines.v[i], '=')) == NULL)
			continue;
		*eq = '\0';
		profile_set(&c, lines.v[i], eq + 1, "set", &diags);
	}
	for (int k = 0; k < K_COUNT; k++)
		free(profile_get(&c, k));
	config_free(&c);
	strv_free(&diags);
	strv_free(&lines);
	free(copy);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	one((const char *)data, size);
	return 0;
}
