/*
 * Where the files a program reads but never writes are (sql/, templates/,
 * data/) when the data_dir key does not say: found beside the running
 * program, so that a build tree, a directory the programs were copied into
 * and a moved --prefix install each use their own files with no setting.
 */
#ifndef MAILPROOF_DATADIR_H
#define MAILPROOF_DATADIR_H

#include <stddef.h>

/*
 * Writes into out the first directory holding sql/lifecycle.sql of: the
 * program's ../share/mailproof (an install), the program's own directory (a
 * copy, or a build in the source tree), its parent (a build in a
 * subdirectory such as build/); else the configured pkgdatadir.
 */
void datadir_find(char *out, size_t len);

#endif
