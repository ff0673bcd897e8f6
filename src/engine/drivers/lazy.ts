/**
 * A value made on first use, once. The drivers' clients (axios, nodemailer) are loaded this way: every serve
 * builds every driver, and most never send a webhook or an email, so their packages stay out of memory until
 * the first run that needs them.
 */
export function onFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    // A failed load is not kept: the next run tries again.
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}
