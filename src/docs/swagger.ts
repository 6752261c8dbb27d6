import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto';

export const DOCS_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs/openapi.json';

/** The OpenAPI document of the dashboard API, built from the controllers' metadata alone. */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Stowage API')
    .setDescription(
      'The dashboard API of Stowage. Errors share one shape: `{"error":{"code","message","detail"}}`; ' +
        'mutating routes need the `X-CSRF-Token` header matching the `stowage_csrf` cookie.',
    )
    .setVersion(version)
    .addCookieAuth('stowage_session')
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] });
}

export function setupSwagger(app: NestFastifyApplication, version: string): void {
  SwaggerModule.setup(DOCS_PATH, app, buildOpenApiDocument(app, version), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    yamlDocumentUrl: 'api/docs/openapi.yaml',
    customSiteTitle: 'Stowage API',
    swaggerOptions: { persistAuthorization: false },
  });
}
