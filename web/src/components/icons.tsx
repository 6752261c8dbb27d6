/**
 * Icons as inline SVG: they render on every system (an emoji such as 📁 needs a colour emoji
 * font, which many Linux desktops lack) and take the text colour. Decorative: hidden from
 * screen readers, as the text beside them says the same.
 */
export function FolderIcon({ className = '' }: { className?: string }) {
  return (
    <svg
      aria-hidden
      focusable="false"
      viewBox="0 0 20 16"
      width="16"
      height="13"
      className={`inline-block shrink-0 align-[-2px] ${className}`}
      data-icon="folder"
    >
      <path
        d="M1.5 2.5A1.5 1.5 0 0 1 3 1h4.4l1.8 2H17a1.5 1.5 0 0 1 1.5 1.5v9A1.5 1.5 0 0 1 17 15H3a1.5 1.5 0 0 1-1.5-1.5z"
        fill="currentColor"
        fillOpacity="0.25"
        stroke="currentColor"
        strokeWidth="1.2"
        strokeLinejoin="round"
      />
    </svg>
  );
}
