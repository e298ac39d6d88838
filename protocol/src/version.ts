/**
 * Integer version of every wire format in this package. Sent in `start`, in every batch and in the
 * socket handshake. Bump it only for a change an older peer cannot read; the backend lists the
 * versions it serves in SUPPORTED_PROTOCOL_VERSIONS and refuses the rest with `unsupported_version`.
 */
export const PROTOCOL_VERSION = 1 as const;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
