import { AppError } from '../../shared/app-error.js';
import type { ExcuseDocumentType } from '../ports/excuses.js';

export const MAX_EXCUSE_DOCUMENT_BYTES = 5 * 1024 * 1024;

const EXTENSIONS: Record<ExcuseDocumentType, string> = { 'application/pdf': 'pdf', 'image/jpeg': 'jpg', 'image/png': 'png' };

/**
 * The document's type from its first bytes, never from the name or the Content-Type the client
 * sent: a file that is not a PDF, JPEG or PNG is refused, whatever it claims to be.
 */
export function sniffDocumentType(bytes: Uint8Array): ExcuseDocumentType | null {
  const starts = (sig: number[]) => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  return null;
}

/** The stored type and a file name made by the server (the uploaded name is never reused). */
export function checkDocument(excuseId: string, bytes: Uint8Array): { contentType: ExcuseDocumentType; fileName: string } {
  if (bytes.length > MAX_EXCUSE_DOCUMENT_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', 'A document is at most 5 MB.');
  const contentType = sniffDocumentType(bytes);
  if (!contentType) throw new AppError('DOCUMENT_UNSUPPORTED_TYPE');
  return { contentType, fileName: `excuse-${excuseId}.${EXTENSIONS[contentType]}` };
}
