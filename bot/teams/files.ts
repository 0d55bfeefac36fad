/**
 * Sending a file to a person in Teams personal chat (the file consent flow, which needs
 * `supportsFiles: true` in the manifest):
 *  1. the bot sends a file consent card (name, size, description; the context carries only an
 *     opaque reference to the file on Vigil's shelf);
 *  2. the person clicks Allow: Teams sends a `fileConsent/invoke` with an upload URL in their
 *     OneDrive; the bot PUTs the bytes there in one request (Content-Range covering the whole file);
 *  3. the bot sends a file info card pointing at the uploaded file.
 */
import type { Attachment, FileUploadInfo } from 'botbuilder';
import type { OfferedFile } from '../chat/messenger';

export const FILE_CONSENT = 'application/vnd.microsoft.teams.card.file.consent';
export const FILE_INFO = 'application/vnd.microsoft.teams.card.file.info';

export function fileConsentAttachment(file: OfferedFile): Attachment {
  return {
    contentType: FILE_CONSENT,
    name: file.name,
    content: {
      description: file.description,
      sizeInBytes: file.sizeInBytes,
      acceptContext: { ref: file.ref },
      declineContext: { ref: file.ref },
    },
  };
}

export function fileInfoAttachment(info: FileUploadInfo): Attachment {
  return {
    contentType: FILE_INFO,
    name: info.name,
    contentUrl: info.contentUrl,
    content: { uniqueId: info.uniqueId, fileType: info.fileType },
  };
}

/**
 * Upload URLs come from Teams (OneDrive upload sessions, always https). Plain http is accepted only
 * for this machine (local test doubles), so the bot never PUTs a report to an arbitrary http host.
 */
export function isAcceptableUploadUrl(raw: string | undefined): boolean {
  if (!raw) return false;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** PUT the whole file into the upload session; throws with the HTTP status on failure. */
export async function uploadToSession(uploadUrl: string, bytes: Buffer, timeoutMs = 30_000): Promise<void> {
  if (!isAcceptableUploadUrl(uploadUrl)) throw new Error('The upload address Teams gave is not an https URL.');
  const res = await fetch(uploadUrl, {
    method: 'PUT',
    headers: { 'Content-Length': String(bytes.length), 'Content-Range': `bytes 0-${bytes.length - 1}/${bytes.length}` },
    body: bytes,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`OneDrive answered ${res.status} to the upload`);
  await res.arrayBuffer().catch(() => undefined);
}
