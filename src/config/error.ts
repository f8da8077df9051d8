/**
 * Every problem found while loading configuration. Startup stops on it; the message names the
 * key (or the environment variable / file) and says what was expected, so the operator can fix
 * it without reading code. When several problems are found at once they are all listed, one per
 * line, so a broken deployment is fixed in one round instead of one restart per typo.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Each problem found, one sentence each; `message` is these joined. */
  readonly problems: readonly string[];

  constructor(message: string | readonly string[], options?: ErrorOptions) {
    const problems = typeof message === 'string' ? [message] : message;
    super(
      problems.length === 1
        ? (problems[0] ?? '')
        : `${problems.length} configuration problems:\n${problems.map((p) => `- ${p}`).join('\n')}`,
      options,
    );
    this.problems = problems;
  }
}
