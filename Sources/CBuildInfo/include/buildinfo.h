#ifndef SPARROW_BUILDINFO_H
#define SPARROW_BUILDINFO_H
/// The git commit the package was built from (Package.swift reads .git when the manifest is evaluated and passes it
/// as a C define), or "unknown" when the source tree has no .git (a source archive).
const char *sparrow_git_commit(void);
#endif
