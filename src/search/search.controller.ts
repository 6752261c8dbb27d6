import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { SearchQuery, SearchResultDto } from './dto/search.dto';
import { SearchService } from './search.service';

@ApiTags('search')
@Controller('api/search')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  @Get()
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Bucket names and object keys containing the query, across every backend.' })
  @ApiOkResponse({ type: SearchResultDto })
  @ApiErrors('bad_request')
  search(@Query() { q }: SearchQuery): Promise<SearchResultDto> {
    return this.searchService.search(q);
  }
}
