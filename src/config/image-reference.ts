// Which strings are image references at all. Pod authors write `image:` freely: the API server only
// refuses leading and trailing whitespace, so a container image can hold newlines, escape sequences
// or 200 KiB of text. Such a string names no image a runtime could hold, so it protects nothing; it
// must also never reach the agent's argv or the audit log. This is the grammar of
// github.com/distribution/reference (reference.go, regexp.go), which containerd and the kubelet use:
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain "/"] path-component ["/" path-component]*   (at most 255 characters)
//   domain           := host [":" port]        host := domain-name | "[" IPv6 "]"
//   domain-component := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
//   path-component   := /[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex     algorithm := /[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*/
//
// The grammar sets no upper bound on the digest's hex; the longest registered one (sha512) has 128
// digits, so that is the bound here. A bare image id (`sha256:<64 hex>`, as the kubelet reports
// `imageID` for images without a repo digest) parses as name `sha256` with a 64-character tag.

/** distribution/reference NameTotalLengthMax. */
export const NAME_MAX_LENGTH = 255;
const TAG_MAX_LENGTH = 128;
const DIGEST_HEX_MAX_LENGTH = 128;

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|\\[[a-fA-F0-9:]+\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const name = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const tag = `[\\w][\\w.-]{0,${TAG_MAX_LENGTH - 1}}`;
const digest = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,${DIGEST_HEX_MAX_LENGTH}}`;
const REFERENCE = new RegExp(`^(${name})(?::${tag})?(?:@${digest})?$`);

/** The longest string that can be a valid reference (name, tag and a sha512 digest with a long algorithm name). */
export const REFERENCE_MAX_LENGTH =
  NAME_MAX_LENGTH + 1 + TAG_MAX_LENGTH + 1 + 32 + 1 + DIGEST_HEX_MAX_LENGTH;

/**
 * Why `ref` is not an image reference, or undefined when it is one. The reason never quotes the
 * string (it may be huge or hold control characters); callers show it escaped and cut, if at all.
 */
export function checkImageReference(ref: string): string | undefined {
  if (ref.length === 0) return "it is empty";
  if (ref.length > REFERENCE_MAX_LENGTH)
    return `it is ${ref.length} characters long (a reference has at most ${REFERENCE_MAX_LENGTH})`;
  const match = REFERENCE.exec(ref);
  if (match === null) return "it does not follow the image reference grammar";
  const nameLength = match[1]?.length ?? 0;
  if (nameLength > NAME_MAX_LENGTH)
    return `its repository name is ${nameLength} characters long (at most ${NAME_MAX_LENGTH})`;
  return undefined;
}

export function isImageReference(ref: string): boolean {
  return checkImageReference(ref) === undefined;
}
