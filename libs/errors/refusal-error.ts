/**
 * An error that answers a client's bad request rather than reporting a fault of ours. Such errors
 * are raised per refused request, at line rate: their stack trace says nothing useful and
 * capturing it is most of what constructing one costs, so none is captured.
 */
export class RefusalError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}
