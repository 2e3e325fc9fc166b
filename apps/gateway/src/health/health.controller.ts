import { Controller, Get } from '@nestjs/common';

/** Liveness: the process serves HTTP. Temporal being away is reported per call (503), not here. */
@Controller('healthz')
export class HealthController {
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
