/** The clock is passed in, so rules and services can be tested at any time. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
