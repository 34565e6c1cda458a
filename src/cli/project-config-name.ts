/** The project config's file name, apart from its parser: the up-to-date check looks for it before loading anything. */
export const PROJECT_CONFIG = 'kiln.config.yaml';
