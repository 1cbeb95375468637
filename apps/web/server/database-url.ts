/** Which database a DATABASE_URL names. Shared by the server and the Prisma CLI's config (no imports: both load it). */

/** postgres:// and postgresql:// select PostgreSQL; everything else is SQLite (`file:`). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}
