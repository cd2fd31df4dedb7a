// The `WWW-Authenticate` challenge a registry answers 401 with (RFC 7235 auth-params):
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
//   Basic realm="basic-realm"
// A registry controls this header: it is parsed strictly (quoted strings with escapes, tokens), and
// an unparsable one is a challenge the client does not answer.

export interface Challenge {
  /** Lower case: "bearer", "basic", ... */
  scheme: string;
  /** Parameter names in lower case. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * The challenges of one header value (a registry sends one; RFC 7235 allows several, comma
 * separated). Returns [] for a value it cannot parse.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = header.trim();
  while (rest.length > 0) {
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) return [];
    rest = rest.slice(scheme.length).trimStart();
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    // auth-params: name=value pairs separated by commas, until the next scheme (a token not
    // followed by "=").
    for (;;) {
      const name = TOKEN.exec(rest)?.[0];
      if (name === undefined) break;
      const afterName = rest.slice(name.length).trimStart();
      if (!afterName.startsWith("=")) break; // the next challenge's scheme
      let value: string;
      let after = afterName.slice(1).trimStart();
      if (after.startsWith('"')) {
        const parsed = quotedString(after);
        if (parsed === undefined) return [];
        value = parsed.value;
        after = parsed.rest;
      } else {
        const token = TOKEN.exec(after)?.[0];
        if (token === undefined) return [];
        value = token;
        after = after.slice(token.length);
      }
      challenge.params[name.toLowerCase()] = value;
      after = after.trimStart();
      if (!after.startsWith(",")) {
        rest = after;
        break;
      }
      rest = after.slice(1).trimStart();
    }
    if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
  }
  return out;
}

/** A quoted-string at the start of `text`: its unescaped value and what follows. */
function quotedString(text: string): { value: string; rest: string } | undefined {
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === "\\") {
      i++;
      if (i >= text.length) return undefined;
      value += text.charAt(i);
    } else if (c === '"') {
      return { value, rest: text.slice(i + 1) };
    } else {
      value += c;
    }
  }
  return undefined;
}
