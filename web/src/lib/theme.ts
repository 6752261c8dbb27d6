import { useEffect, useState } from 'react';

export type ThemeMode = 'light' | 'dark' | 'system';
const KEY = 'stowage.theme';

function apply(mode: ThemeMode): void {
  const dark = mode === 'dark' || (mode === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.classList.toggle('dark', dark);
}

export function initTheme(): void {
  apply((localStorage.getItem(KEY) as ThemeMode | null) ?? 'system');
}

export function useTheme(): [ThemeMode, () => void] {
  const [mode, setMode] = useState<ThemeMode>(() => (localStorage.getItem(KEY) as ThemeMode | null) ?? 'system');
  useEffect(() => {
    apply(mode);
    localStorage.setItem(KEY, mode);
  }, [mode]);
  const next = () => setMode((m) => (m === 'system' ? 'light' : m === 'light' ? 'dark' : 'system'));
  return [mode, next];
}
