import type { UserConfig } from 'vitest/config';
export declare function segVitestConfig(overrides?: NonNullable<UserConfig['test']>): UserConfig;
