/**
 * Defaults `faasctl up` names in its help and applies: kept apart from the code that uses them so
 * that registering the command (on every start, for --help) loads nothing else.
 */

/** The Python base image the runtime image is built on (FAASCTL_BASE_IMAGE, --base-image). */
export const DEFAULT_BASE_IMAGE = 'python:3.12-slim';

/** @default 'postgres:16' — the official image. */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:16';
export const DEFAULT_POSTGRES_NAME = 'faasctl-postgres';
export const DEFAULT_POSTGRES_PORT = 5432;
