/** findBinary returns the absolute path of `bin` on PATH or in the sbin folders, or undefined. */
export function findBinary(bin: string): string | undefined;
