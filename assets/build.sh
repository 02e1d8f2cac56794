#!/usr/bin/env bash
# Rebuild the committed front-end files in inquiry_docs/static/ from node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=inquiry_docs/static
[ -d node_modules/govuk-frontend ] || npm ci --no-audit --no-fund
mkdir -p "$out"

npx --no-install sass --load-path=node_modules --style=compressed --no-source-map \
  assets/app.scss "$out/app.css"

# Brand-neutral: no web fonts. The only image the CSS names is the footer crown
# (.govuk-footer__copyright-logo), which the templates never use, so none is copied.
if grep -Eq '@font-face|\.woff' "$out/app.css"; then
  echo "build.sh: app.css references web fonts" >&2
  exit 1
fi
if grep -o 'url([^)]*)' "$out/app.css" | grep -v 'images/govuk-crest.svg'; then
  echo "build.sh: app.css references an asset that is not copied (above)" >&2
  exit 1
fi

# The ES module bundle (exports initAll); drop the pointer to a source map we don't ship.
sed 's|//# sourceMappingURL=[^ ]*$||' node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js \
  > "$out/govuk-frontend.min.js"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"

echo "build.sh: wrote $out/app.css, govuk-frontend.min.js, htmx.min.js"
