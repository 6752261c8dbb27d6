import { useMemo } from 'react';
import { encodeQr, qrPath } from '../lib/qr';

/** A QR code of `text` as SVG: dark modules on a white quiet zone (scanners want that, in either theme). */
export function QrCode({ text, label, size = 176 }: { text: string; label: string; size?: number }) {
  const code = useMemo(() => encodeQr(text, 'M'), [text]);
  const extent = code.size + 8;
  return (
    <svg
      role="img"
      aria-label={label}
      data-testid="qr-code"
      data-version={code.version}
      width={size}
      height={size}
      viewBox={`0 0 ${extent} ${extent}`}
      shapeRendering="crispEdges"
      className="rounded"
    >
      <rect width={extent} height={extent} fill="#ffffff" />
      <path d={qrPath(code)} fill="#000000" />
    </svg>
  );
}
