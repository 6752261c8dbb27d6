import { useQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap, type Schemas } from '../api/client';

export type Me = Schemas['MeDto'];

export function useMe() {
  return useQuery<Me, ApiError>({
    queryKey: ['me'],
    queryFn: () => unwrap(api.GET('/api/me')),
    retry: false,
    staleTime: 60_000,
  });
}

export const canWrite = (me: Me | undefined) => me?.role === 'user' || me?.role === 'admin';
export const isAdmin = (me: Me | undefined) => me?.role === 'admin';
