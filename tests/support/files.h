/*
 * files.h: test helpers for tests that read DATA_DIR-like folders: temporary folders,
 * writing files into them, and exact assertions on a problem list.
 */
#ifndef JOS_TEST_FILES_H
#define JOS_TEST_FILES_H

#include "engine/jos.h"

/* A new empty folder under $TMPDIR (or /tmp); malloc'd path. Fails the test on error. */
char *tst_tmpdir(void);
/* Writes dir/name with content (NULL: removes the file). */
void tst_write(const char *dir, const char *name, const char *content);
void tst_write_bytes(const char *dir, const char *name, const char *content, size_t len);
/* Removes dir's files and dir itself, then frees dir. */
void tst_rmtree(char *dir);
/* Prints every problem of l to stderr (for a failing test's diagnosis). */
void tst_dump(const jos_errlist *l);
/* Asserts that l holds exactly one error (warnings ignored) and that it is
 * FILE:LINE: msg exactly (line 0: no line). */
void tst_expect_only_error(const jos_errlist *l, const char *file, uint32_t line,
			   const char *msg);
/* Asserts that l holds a problem of that severity, file, line and message. */
void tst_expect_problem(const jos_errlist *l, jos_severity sev, const char *file,
			uint32_t line, const char *msg);

#endif
