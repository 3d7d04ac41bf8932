import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../domain/errors.ts';
import { decodeUtf8, JsonSyntaxError, parseStrictJson } from '../strict-json.ts';
import type { HttpMiddleware } from '../types.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Parses JSON bodies for routes that take one: 413 over 1 MB, 415 for anything but
 * application/json, 400 malformed-json for invalid UTF-8 or JSON. An empty body reads as `{}` so
 * that missing fields are reported by validation, field by field. Ambiguities JSON.parse would
 * resolve silently (duplicate keys, `__proto__`, numbers a double cannot hold) are kept as field
 * problems, listed by `validateInput` with every other problem of the request.
 */
export function jsonBody(): HttpMiddleware {
  return {
    before: (request) => {
      const route = request.internal.route;
      if (!route?.body) return;
      const { event } = request;
      const raw = event.body
        ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
        : Buffer.alloc(0);
      const maxBytes = route.textBody?.maxBytes ?? MAX_BODY_BYTES;
      if (raw.byteLength > maxBytes) throw new PayloadTooLargeError(maxBytes);
      const text = decodeUtf8(raw);
      if (text === undefined) throw new MalformedJsonError('The request body is not valid UTF-8.');
      if (route.textBody) {
        const mediaType = event.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (text.trim() !== '' && !route.textBody.mediaTypes.includes(mediaType ?? '')) {
          throw new UnsupportedMediaTypeError(event.headers['content-type'], route.textBody.mediaTypes);
        }
        request.internal.rawBody = text;
        return;
      }
      if (text.trim() === '') {
        request.internal.rawBody = {};
        return;
      }
      const contentType = event.headers['content-type'];
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
        throw new UnsupportedMediaTypeError(contentType);
      }
      try {
        const { value, problems } = parseStrictJson(text);
        request.internal.rawBody = value;
        request.internal.bodyProblems = problems;
      } catch (error) {
        if (!(error instanceof JsonSyntaxError)) throw error;
        throw new MalformedJsonError(`The request body is not valid JSON: ${error.message}.`);
      }
    },
  };
}
