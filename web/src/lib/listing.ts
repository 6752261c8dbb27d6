import { infiniteQueryOptions } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';

/** The first request asks for a screenful or so, answered fast even from a slow upstream; the rest follow in the background. */
export const FIRST_PAGE = 200;
export const PAGE = 1000;

/**
 * One folder's listing, page by page. The same options serve the object browser and the route's
 * loader, which starts the first request as soon as the address is known: beside the app's own
 * start (the session, the screen's code), not after it.
 */
export const listingQuery = (bid: string, bucket: string, prefix: string) =>
  infiniteQueryOptions({
    queryKey: ['objects', bid, bucket, prefix],
    initialPageParam: '',
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/backends/{bid}/buckets/{bucket}/objects', {
          params: { path: { bid, bucket }, query: { prefix, delimiter: '/', max_keys: pageParam ? PAGE : FIRST_PAGE, ...(pageParam ? { token: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => (last.is_truncated && last.next_continuation_token ? last.next_continuation_token : undefined),
  });
